import { expect } from 'chai';
import { execFile } from 'node:child_process';

describe('example demo: npm run demo', function () {
  this.timeout(120_000);

  it('prints the dashboard\'s address, runs the sale and finds nothing oversold or lost; then a limited sale where no customer got more than the limit', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'example/tools/demo.ts'],
        // Its own app, with a token it makes: a DEMO_URL or ADMIN_TOKEN of the caller's is not for this run.
        { env: { ...process.env, DEMO_URL: '', ADMIN_TOKEN: '' }, timeout: 100_000, maxBuffer: 4 * 2 ** 20 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(output).to.match(/Watch it on the dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    expect(output).to.include('No unit oversold, none lost.');
    // The limited sale, judged from the order rows: 5 buyers of 40 orders each, a limit of 2.
    expect(output).to.match(/^ {2}bot-5 +40 +\d +\d+ +\d+ +0 +[0-2]$/m);
    expect(output).to.match(/most units one customer has in the database: [0-2] \(limit 2\)/);
    expect(output).to.match(/No customer got more than 2; the other customers bought the other \d+ units, and it sold out\./);
  });
});
