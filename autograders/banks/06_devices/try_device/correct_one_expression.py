# One conditional expression on the device's name.
def try_device(i=0):
    return torch.device(f"cuda:{i}" if torch.cuda.device_count() >= i + 1 else "cpu")
