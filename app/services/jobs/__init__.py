"""Background jobs: a queue several processes share safely, progress, and what an owner sees of them."""
