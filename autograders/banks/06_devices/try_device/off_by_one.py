# Compares with >=: with n GPUs it returns cuda:n, a GPU that does not exist.
def try_device(i=0):
    if torch.cuda.device_count() >= i:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
