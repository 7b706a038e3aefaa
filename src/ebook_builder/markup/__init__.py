"""What the stages know about the markup they pass along: XHTML, MathML, SVG and the EPUB
semantic vocabularies, each in one module, so that every stage reads them the same way."""
