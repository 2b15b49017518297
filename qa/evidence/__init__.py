"""Stage 3 of answering, the evidence: what the question asks (its terms, its names, the kind of answer it asks
for), what the reader (a cross-encoder trained here) makes of the best passages' sentences, and the ranking they
re-order. Decide, highlight and compose read it; it reads only the index and the search before it."""
