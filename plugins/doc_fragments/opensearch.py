# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  hosts:
    description:
      - URLs of the OpenSearch nodes to talk to, such as V(https://search1.example.org:9200).
      - The client tries them in turn; a failure message names every host tried.
    type: list
    elements: str
    default: ['http://127.0.0.1:9200']
  username:
    description:
      - User for HTTP basic authentication (the security plugin's internal users or LDAP).
      - Requires O(password).
    type: str
  password:
    description:
      - Password of O(username). Never logged.
    type: str
  ca_path:
    description:
      - PEM file with the CA certificate(s) that signed the nodes' HTTP certificates.
    type: path
  client_cert:
    description:
      - PEM client certificate for TLS client authentication. Requires O(client_key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
  validate_certs:
    description:
      - Verify the nodes' TLS certificates and host names.
      - Set to V(false) only for throw-away test clusters.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for an answer to each request.
      - Long operations (waiting for a snapshot) have their own timeout.
    type: int
    default: 30
requirements:
  - opensearch-py (Python library, on the host that runs the module)
notes:
  - Talks to the REST API of OpenSearch 2.x (1.x and 3.x use the same snapshot API).
'''
