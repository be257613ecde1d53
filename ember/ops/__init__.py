"""ember's ops, one family per module: each op is a Function with forward and backward side by
side, followed by its public function; each module ends by attaching its Tensor methods."""
