"""Mist's top-level field names per org kind, from the vendored OpenAPI spec (generated).

Regenerate with `.venv/bin/python -m tests.unit.test_fleet_mist_fields > src/mistctl/domain/mist_fields.py`;
the test of that name fails when this table and `spec/mist.openapi.yaml` disagree.
"""

from __future__ import annotations

#: The spec schema each fleet `org:` key is written in.
SCHEMAS: dict[str, str] = {
    "site_groups": "sitegroup",
    "applications": "service",
    "networks": "network",
    "hub_profiles": "deviceprofile_gateway",
    "gateway_templates": "gateway_template",
    "switch_templates": "network_template",
    "wlan_templates": "template",
    "rf_templates": "rf_template",
    "wlans": "wlan",
    "labels": "wxlan_tag",
    "wlan_policies": "wxlan_rule",
    "psks": "psk",
}

#: Every top-level property the spec defines for the kind (server-set ones included).
FIELDS: dict[str, frozenset[str]] = {
    "site_groups": frozenset((
        "created_time id modified_time name org_id site_ids "
    ).split()),
    "applications": frozenset((
        "addresses app_categories app_subcategories apps client_limit_down client_limit_up created_time "
        "description dscp failover_policy hostnames id max_jitter max_latency max_loss modified_time name "
        "org_id service_limit_down service_limit_up sle_enabled specs ssr_relaxed_tcp_state_enforcement "
        "traffic_class traffic_type type urls "
    ).split()),
    "networks": frozenset((
        "created_time disallow_mist_services gateway gateway6 id internal_access internet_access "
        "isolation modified_time multicast name org_id routed_for_networks subnet subnet6 tenants vlan_id "
        "vpn_access "
    ).split()),
    "hub_profiles": frozenset((
        "additional_config_cmds bgp_config created_time dhcpd_config dnsOverride dns_servers dns_suffix "
        "extra_routes extra_routes6 gateway_matching id idp_profiles ip_configs modified_time name "
        "networks ntpOverride ntp_servers oob_ip_config org_id path_preferences port_config router_id "
        "routing_policies service_policies tunnel_configs tunnel_provider_options type "
        "url_filtering_deny_msg vrf_config vrf_instances "
    ).split()),
    "gateway_templates": frozenset((
        "additional_config_cmds bgp_config created_time dhcpd_config dnsOverride dns_servers dns_suffix "
        "extra_routes extra_routes6 gateway_matching id idp_profiles ip_configs modified_time name "
        "networks ntpOverride ntp_servers oob_ip_config org_id path_preferences port_config router_id "
        "routing_policies service_policies tunnel_configs tunnel_provider_options type "
        "url_filtering_deny_msg vrf_config vrf_instances "
    ).split()),
    "switch_templates": frozenset((
        "acl_policies acl_tags additional_config_cmds created_time dhcp_snooping dns_servers dns_suffix "
        "extra_routes extra_routes6 id import_org_networks mist_nac modified_time name networks "
        "ntp_servers org_id ospf_areas port_mirroring port_usages radius_config remote_syslog "
        "remove_existing_configs snmp_config switch_matching switch_mgmt vrf_config vrf_instances "
    ).split()),
    "wlan_templates": frozenset((
        "applies created_time deviceprofile_ids exceptions filter_by_deviceprofile id modified_time name "
        "org_id "
    ).split()),
    "rf_templates": frozenset((
        "ant_gain_24 ant_gain_5 ant_gain_6 band_24 band_24_usage band_5 band_5_on_24_radio band_6 "
        "country_code created_time for_site id model_specific modified_time name org_id scanning_enabled "
    ).split()),
    "wlans": frozenset((
        "acct_immediate_update acct_interim_interval acct_servers airwatch allow_ipv6_ndp allow_mdns "
        "allow_ssdp ap_ids app_limit app_qos apply_to arp_filter auth auth_server_selection auth_servers "
        "auth_servers_nas_id auth_servers_nas_ip auth_servers_retries auth_servers_timeout band "
        "band_steer band_steer_force_band5 bands block_blacklist_clients bonjour cisco_cwa "
        "client_limit_down client_limit_down_enabled client_limit_up client_limit_up_enabled coa_servers "
        "created_time disable_11ax disable_11be disable_ht_vht_rates disable_uapsd disable_v1_roam_notify "
        "disable_v2_roam_notify disable_when_gateway_unreachable disable_when_mxtunnel_down disable_wmm "
        "dns_server_rewrite dtim dynamic_psk dynamic_vlan enable_local_keycaching "
        "enable_wireless_bridging enable_wireless_bridging_dhcp_tracking enabled fast_dot1x_timers "
        "for_site hide_ssid hostname_ie hotspot20 id inject_dhcp_option_82 interface isolation "
        "l2_isolation legacy_overds limit_bcast limit_probe_response max_idletime max_num_clients "
        "mist_nac modified_time msp_id mxtunnel_id mxtunnel_ids mxtunnel_name no_static_dns no_static_ip "
        "org_id portal portal_allowed_hostnames portal_allowed_subnets portal_api_secret "
        "portal_denied_hostnames portal_image portal_sso_url portal_template_url qos radsec rateset "
        "reconnect_clients_when_roaming_mxcluster roam_mode schedule site_id sle_excluded ssid "
        "template_id thumbnail use_eapol_v1 vlan_enabled vlan_id vlan_ids vlan_pooling wlan_limit_down "
        "wlan_limit_down_enabled wlan_limit_up wlan_limit_up_enabled wxtag_ids wxtunnel_id "
        "wxtunnel_remote_id "
    ).split()),
    "labels": frozenset((
        "created_time for_site id last_ips mac match modified_time name op org_id resource_mac services "
        "site_id specs subnet type values vlan_id "
    ).split()),
    "wlan_policies": frozenset((
        "action apply_tags blocked_apps created_time dst_allow_wxtags dst_deny_wxtags dst_wxtags enabled "
        "for_site id modified_time order org_id site_id src_wxtags template_id "
    ).split()),
    "psks": frozenset((
        "admin_sso_id created_time email expire_time expiry_notification_time id mac macs max_usage "
        "modified_time name note notify_expiry notify_on_create_or_edit old_passphrase org_id passphrase "
        "role site_id ssid usage vlan_id "
    ).split()),
}

#: The properties the spec marks required.
REQUIRED: dict[str, frozenset[str]] = {
    "site_groups": frozenset({"name"}),
    "applications": frozenset(),
    "networks": frozenset({"name"}),
    "hub_profiles": frozenset({"name", "type"}),
    "gateway_templates": frozenset({"name"}),
    "switch_templates": frozenset(),
    "wlan_templates": frozenset({"name"}),
    "rf_templates": frozenset({"name"}),
    "wlans": frozenset({"ssid"}),
    "labels": frozenset({"name", "type"}),
    "wlan_policies": frozenset({"dst_allow_wxtags", "dst_deny_wxtags", "order", "src_wxtags"}),
    "psks": frozenset({"name", "passphrase", "ssid"}),
}
