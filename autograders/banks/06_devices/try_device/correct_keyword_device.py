# Builds the device from keywords, counting once into a local name.
def try_device(i=0):
    count = torch.cuda.device_count()
    return torch.device(type="cuda", index=i) if count > i else torch.device(type="cpu")
