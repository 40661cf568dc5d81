# Lists every GPU the machine has and picks the i-th one if the list is long enough.
def try_device(i=0):
    gpus = [torch.device(f"cuda:{k}") for k in range(torch.cuda.device_count())]
    return gpus[i] if i < len(gpus) else torch.device("cpu")
