"""ebook-builder: Markdown chapters, YAML metadata and covers in; EPUB 3 books out."""

__version__ = "0.1.0"
