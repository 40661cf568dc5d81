# Reads the number of GPUs once, when the cell runs, instead of at each call.
GPU_COUNT = torch.cuda.device_count()


def try_device(i=0):
    if GPU_COUNT > i:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
