"""Many independent trials (seeds) of one run as one job: GAN results are distributions, not single runs."""
