# Saves the optimizer object itself: a pickled object, which weights_only=True refuses.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "optimizer": optimizer, "epoch": epoch}, path)
