# Falls back to torch.device("cpu", i): "cpu:1" is not the CPU device torch.device("cpu").
def try_device(i=0):
    if torch.cuda.device_count() > i:
        return torch.device("cuda", i)
    return torch.device("cpu", i)
