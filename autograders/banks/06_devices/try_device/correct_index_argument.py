# Builds the device from its type and index, and compares the index with the count the other way round.
def try_device(i=0):
    if i < torch.cuda.device_count():
        return torch.device("cuda", i)
    return torch.device("cpu")
