// The account the end-to-end tests run, in meshfilter's YAML format: the seed's peers,
// one-way and ICMP rules, and a routing peer with a resource subnet behind it.

export interface PolicyVariant {
  /** Include engineering -> production-db tcp/5432 (removed to test revocation, P14). */
  dbAccess: boolean;
}

export function meshPolicyYaml({ dbAccess }: PolicyVariant): string {
  return `format: meshfilter/v1
users:
  - name: alice
    groups: [engineering]
setup_keys:
  - name: servers-key
    groups: [production-db]
  - name: web-key
    groups: [web-servers]
  - name: routers-key
    groups: [routers]
groups: [engineering, production-db, web-servers, routers, office]
peers:
  - { name: laptop-alice, ip: 100.64.0.10, user: alice }
  - { name: db-1, ip: 100.64.0.20, setup_key: servers-key }
  - { name: web-1, ip: 100.64.0.30, setup_key: web-key }
  - { name: router-1, ip: 100.64.0.40, setup_key: routers-key }
networks:
  - name: office
    routers:
      - { peer: router-1 }
    resources:
      - { name: office-lan, address: 198.18.1.0/24, groups: [office] }
policies:
${
  dbAccess
    ? `  - name: engineering-to-db
    protocol: tcp
    ports: [5432]
    sources: [engineering]
    destinations: [production-db]
`
    : ""
}  - name: engineering-to-web
    protocol: tcp
    ports: [8080]
    sources: [engineering]
    destinations: [web-servers]
  - name: engineering-ping-web
    protocol: icmp
    sources: [engineering]
    destinations: [web-servers]
  - name: engineering-to-office
    protocol: all
    sources: [engineering]
    destination_resource: office-lan
`;
}

/** A policy file with a mistake: the previous policy must stay in force. */
export const BAD_POLICY_YAML = `format: meshfilter/v1
peers:
  - { name: db-1, ip: 100.64.0.20 }
policies:
  - name: typo
    protocol: tcpp
    sources: [nobody]
    destinations: [production-db]
`;
