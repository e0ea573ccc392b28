// Jest setup file of the "bun" project: servers started by the helpers run under Bun.
process.env.SERVER_RUNTIME = 'bun';
