"""The course's command line and operations: releases, the demo class, grading a class."""
