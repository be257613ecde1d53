# Seed 000, 7-8-LossFunc.py
import torch
from torch.nn import CrossEntropyLoss, L1Loss, MSELoss

inputs = torch.tensor([1, 2, 3], dtype=torch.float32)
targets = torch.tensor([1, 2, 5], dtype=torch.float32)
inputs = torch.reshape(inputs, (1, 1, 1, 3))
targets = torch.reshape(targets, (1, 1, 1, 3))
loss = L1Loss(reduction='mean')
result = loss(inputs, targets)  # 结果为0.6667
print(result)  # added: show the value the seed quotes
loss2 = L1Loss(reduction='sum')
result = loss2(inputs, targets)  # 结果为2.  (changed: the seed calls `loss` here, a typo)
print(result)  # added: show the value the seed quotes
loss3 = MSELoss(reduction='mean')
result = loss3(inputs, targets)  # 结果为1.3333
print(result)  # added: show the value the seed quotes
x = torch.tensor([0.1, 0.2, 0.3])
y = torch.tensor([1])
x = torch.reshape(x, (1, 3))
loss4 = CrossEntropyLoss()
result = loss4(x, y)  # 结果为1.1019
print(result)  # added: show the value the seed quotes
