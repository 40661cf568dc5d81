# Saves the epoch as a float (epoch / 1.0, "to be safe"): 3.0 is not the int 3.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": float(epoch)}, path)
