"""``python -m course.backend``: run the local backend with every extension of the kit."""

from course.backend.core.server import main
from course.backend.extensions import EXTENSIONS

if __name__ == "__main__":
    main(extensions=EXTENSIONS)
