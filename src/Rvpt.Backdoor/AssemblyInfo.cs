// The backdoor lab: triggers, poisoning, evaluation and baseline defences (issue #4).
[assembly: System.CLSCompliant(false)]
