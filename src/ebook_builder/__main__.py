from ebook_builder.cli import main

main()
