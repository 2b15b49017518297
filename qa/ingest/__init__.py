"""Import a person's own files (web pages, PDFs, Word and text files) into the corpus folder."""
