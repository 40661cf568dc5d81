# Correct: reads from an open file with map_location="cpu", restores the optimizer first, returns int(epoch).
def load_checkpoint(path, model, optimizer):
    with open(path, "rb") as f:
        checkpoint = torch.load(f, map_location="cpu", weights_only=True)
    optimizer.load_state_dict(checkpoint["optimizer"])
    model.load_state_dict(checkpoint["model"], strict=True)
    return int(checkpoint["epoch"])
