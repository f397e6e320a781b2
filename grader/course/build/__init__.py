"""Building what students get: labs from solutions, slides to HTML."""
