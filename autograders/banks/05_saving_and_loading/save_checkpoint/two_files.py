# Writes the optimizer's state to a second file beside path: the checkpoint is no longer one file.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save(optimizer.state_dict(), str(path) + ".optimizer")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
