# Forgets the optimizer: only the model's state_dict and the epoch, so momentum is lost on resume.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "epoch": epoch}, path)
