# Without an argument it picks the last GPU instead of the first.
def try_device(i=None):
    count = torch.cuda.device_count()
    if i is None:
        i = count - 1
    if 0 <= i < count:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
