# Asks whether CUDA is usable at all before counting the GPUs.
def try_device(i=0):
    if torch.cuda.is_available() and i < torch.cuda.device_count():
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
