# Adds a fourth key ("version") to the checkpoint: the dict no longer has exactly the keys 'model', 'optimizer' and 'epoch'.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch, "version": 1}, path)
