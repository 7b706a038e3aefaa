from ebook_builder.launcher import main

main()
