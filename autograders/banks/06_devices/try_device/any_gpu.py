# Checks only that there is some GPU, not that there is an i-th one.
def try_device(i=0):
    if torch.cuda.device_count() > 0:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
