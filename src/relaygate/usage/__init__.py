"""Usage: what each router call consumed and cost, recorded off the request path."""
