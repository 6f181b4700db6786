// The Rvpt layer: deep visual prompts, the repulsive loss and the few-shot trainer (issue #3).
[assembly: System.CLSCompliant(false)]
