"""Many trials (seeds) of one recipe as one job: each trial an ordinary run, stepped in turn or vectorised."""
