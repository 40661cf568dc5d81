# Stores the epoch as a tensor instead of a Python int.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": torch.tensor(epoch)}, path)
