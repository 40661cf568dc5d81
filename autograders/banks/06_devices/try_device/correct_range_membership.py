# Looks the index up among the GPUs' indices, range(torch.cuda.device_count()).
def try_device(i=0):
    if i in range(torch.cuda.device_count()):
        return torch.device("cuda:" + str(i))
    return torch.device("cpu")
