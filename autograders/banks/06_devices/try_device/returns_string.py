# Returns the device's name as a string instead of a torch.device.
def try_device(i=0):
    if torch.cuda.device_count() > i:
        return f"cuda:{i}"
    return "cpu"
