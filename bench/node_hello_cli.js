// bench/node_hello_cli.js: a node process per request (bench/node_fn.sh's (e) and (f)): prints the hello.
process.stdout.write('hello from a mote Node.js function (GET /)\n');
