// The README's main command: the whole RVPT defence, end to end, on nothing but this repository.
//
//   dotnet run --project samples/Rvpt.Demo -c Release              # the synthetic world: build, plant, defend, report
//   dotnet run --project samples/Rvpt.Demo -c Release -- --quick   # a one-minute smoke test of every phase
//   dotnet run --project samples/Rvpt.Demo -c Release -- --model clip.safetensors --train train/ --test test/ \
//       --attack badnets --target banana                           # defend a real (backdoored) checkpoint
//
// A thin caller of the rvpt tool (src/Rvpt.Cli): the synthetic world is `rvpt lab demo`, a real model `rvpt suite`.
// See docs/demo.md for every option and docs/results.md for the measured table.
return await Rvpt.Cli.Lab.DemoCli.RunAsync(args);
