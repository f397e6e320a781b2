"""The local AWS backend: a moto server process with the kit's flow recorder and extensions."""
