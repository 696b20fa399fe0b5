/**
 * One JSON call to the example app; `adminToken` for the admin routes.
 * Anything but a 2xx is thrown with its body.
 */
export async function call(url: string, method: string, body?: unknown, adminToken?: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(adminToken && { authorization: `Bearer ${adminToken}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}
