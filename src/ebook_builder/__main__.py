from ebook_builder.cli import app

app(prog_name="ebook")
