using Kiteflow.Cli;

// The commands are listed in KiteflowCommandLine.CreateRoot so tests run the same tree in-process.
return await KiteflowCommandLine.InvokeAsync(args).ConfigureAwait(false);
