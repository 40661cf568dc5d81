# Saves the model object instead of its state_dict: the file needs unpickling, weights_only=True refuses it.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model, "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
