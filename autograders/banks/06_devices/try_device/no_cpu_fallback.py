# Forgets the fallback: without an i-th GPU it returns None.
def try_device(i=0):
    if torch.cuda.device_count() > i:
        return torch.device(f"cuda:{i}")
