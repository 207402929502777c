"""The reader widget's files and the demo article page."""
