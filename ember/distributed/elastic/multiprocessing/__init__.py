"""ember.distributed.elastic.multiprocessing: its `errors` module (`record`)."""
