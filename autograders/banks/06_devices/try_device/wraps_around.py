# Wraps an index past the last GPU around to an existing one (i % count) instead of falling back to the CPU.
def try_device(i=0):
    count = torch.cuda.device_count()
    if count > 0:
        return torch.device(f"cuda:{i % count}")
    return torch.device("cpu")
