# Correct: refuses a file with unsafe globals itself (get_unsafe_globals_in_checkpoint, which unpickles nothing), then loads on the CPU with weights_only=True and copies with strict=True.
def load_checkpoint(path, model, optimizer):
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    if unsafe:
        raise ValueError(f"{path} holds objects that are not plain data: {unsafe}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["model"], strict=True)
    optimizer.load_state_dict(checkpoint["optimizer"])
    return int(checkpoint["epoch"])
