# Saves the model's floating-point entries in float16 to halve the file: the saved values are no longer the model's.
def save_checkpoint(path, model, optimizer, epoch):
    model_state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"model": model_state, "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
