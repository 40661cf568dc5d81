# Returns torch.device("cuda") without the index: "the current GPU", not cuda:i.
def try_device(i=0):
    if torch.cuda.device_count() > i:
        return torch.device("cuda")
    return torch.device("cpu")
