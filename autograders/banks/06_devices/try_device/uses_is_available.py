# Asks whether any GPU is usable instead of counting them: torch.cuda.is_available() says nothing of the i-th GPU.
def try_device(i=0):
    if torch.cuda.is_available():
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")
